"""The app door: manifest, registration and signed webhook deliveries from Saleor."""
