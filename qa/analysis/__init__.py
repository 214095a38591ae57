"""Analysis of a call beyond the rubric: metrics (talk time, silences, interruptions), sentiment
and speaker roles of mono calls."""
