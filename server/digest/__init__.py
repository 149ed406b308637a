"""The morning digest and the weekly/monthly lägesbild: content, rendering, delivery.

`content.build_digest` gathers one organisation's view of a period as plain values;
`render.render` turns it into an e-mail (HTML with inline images and plain text) or a
workspace page. Delivery (recipients, schedule, SMTP) lives beside them.
"""
