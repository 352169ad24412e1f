"""Supplier screening: match a buyer's suppliers against facilities, lists and the graph.

``index`` holds every matchable entity with its names analysed, ``matching`` scores one
example against it with explanations, ``yente`` answers yente's ``/match`` shape,
``screening`` screens a CSV of suppliers (matches, flags, exposure), ``report`` writes the
result as HTML, CSV or JSON, and ``apikeys`` issues keys for ``/match`` clients.
"""
