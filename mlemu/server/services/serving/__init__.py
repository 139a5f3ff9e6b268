"""Model Serving: endpoints, traffic, invocations, inference tables."""
