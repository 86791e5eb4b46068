"""Mail DNS for smtpscope; the public names are re-exported by :mod:`smtpscope.mx`."""
