"""The web app: server-rendered pages and a JSON API over the entity store.

``create_app(ws)`` in :mod:`tidetrace.web.app` builds it; :mod:`tidetrace.web.deps` holds
the permission declarations every route uses.
"""
