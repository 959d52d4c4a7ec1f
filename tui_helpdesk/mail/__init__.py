"""Mail: parsing, quote stripping, classification (pure), and the IMAP/SMTP plumbing."""
