"""Urgent alerts: the on-call rota (jour), Web Push subscriptions, fan-out and escalation."""
