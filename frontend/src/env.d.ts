declare module "@saleor/macaw-ui/style";
declare module "*.css";
