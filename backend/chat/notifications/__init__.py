"""Notifications (version 2): each user's level per room, their browsers' Web
Push subscriptions, and the pushes a new message causes.

- services.py: the writes (levels, subscriptions), each checked against the
  one access rule (selectors.rooms_readable_by);
- selectors.py: the reads (a user's levels; whom a message is pushed to);
- push.py: after a message is stored, a background task finds who is to be
  pushed and sends through pywebpush, off the event loop;
- vapid.py: the server's VAPID keys (settings, the page's public key, and the
  pair `make run` makes).
"""
