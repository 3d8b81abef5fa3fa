"""Analysis layer: audit tables (:mod:`.tables`), the mobile side-by-side view (:mod:`.compare`), CSV/HTML
output (:mod:`.summary`) and the ``audit``/``demo`` commands (:mod:`.cli`, :mod:`.demo`)."""
