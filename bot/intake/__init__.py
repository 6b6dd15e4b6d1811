"""Updates in: stored durably first (the inbox), then processed once each."""
