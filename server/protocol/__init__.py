"""The device protocol (enrolment aside): push, pull and photos, as the phone speaks it."""
