"""Demo municipality (Staffanstorp): real places, field devices and generated night reports."""
