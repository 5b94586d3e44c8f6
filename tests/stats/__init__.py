"""Usage statistics: counting, privacy, monthly sums, the dashboard and its exports."""
