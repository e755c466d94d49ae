"""The 12345 work order (工单): request types, statutory deadlines on the working-day
calendar, lifecycle, handling units, supervision, assessment, revisits and duty calls."""
