"""The manager dashboard: a page of key numbers and charts behind signed, expiring links."""
