"""What shoppers look at on the storefront, which Saleor itself does not record."""
