// Builds the agent bundle (placeholder until the agent lands).
