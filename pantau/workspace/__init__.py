"""The review workspace: a small server-rendered web application over the Pantau database.

Officers of each Bawaslu office log in, see the stories of their area, read the evidence,
and record decisions (confirm, dismiss, duplicate, note, follow-up) that the next digest
honours. Plain HTML forms and a little CSS, no JavaScript, so it stays fast on a phone.
"""
