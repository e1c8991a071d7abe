"""Client and practitioner check-ins: tokens, answers, responses and scores."""
