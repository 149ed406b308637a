"""Privacy operations that span domains: erasing reports everywhere, subject access requests.

`erasure` deletes reports with every copy the server keeps (incident summaries, photos,
archived digests); `subject` exports and deletes what is stored about a device or a person.
"""
