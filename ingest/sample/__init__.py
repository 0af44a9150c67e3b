"""Realistic, deterministic sample exports calibrated to the published figures (`socorg sample`)."""
