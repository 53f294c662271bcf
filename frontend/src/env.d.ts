declare module "@saleor/macaw-ui/style";
