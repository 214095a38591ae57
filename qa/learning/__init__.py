"""Learning from people: turn models and their training (learn, train), active learning, agreement
with human evaluators (calibration), fairness checks and the publish gate of rubrics."""
