"""Run reports: ego time series, JUnit XML, the HTML report, and the leaderboard over a suite."""
