"""Everything that speaks to Asterisk or builds its root and configuration."""
