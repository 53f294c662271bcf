import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The build goes into the Python package, which serves it (saleor_crm_plugin/dashboard/).
// Relative base: the same files are served under /dashboard/ (app) and under the plugin route.
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir: "../saleor_crm_plugin/dashboard/static/crm-dashboard",
    emptyOutDir: true,
    manifest: true,
    sourcemap: false,
  },
});
