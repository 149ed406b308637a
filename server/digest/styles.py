"""The digest's look: inline styles for mail clients and the workspace page's print sheet."""

# Inline styles (mail clients drop <style> blocks or parts of them). High-contrast text;
# links are underlined, so nothing depends on colour alone. No text below 14 px: the
# digest is read on a phone at 06:00, side details included.
STYLES = {
    "body": "margin:0;padding:0;background-color:#f2f2f2;",
    "outer": "padding:12px 6px;",
    "card": (
        "width:100%;max-width:640px;background-color:#ffffff;border:1px solid #c8c8c8;"
        "border-collapse:collapse;"
    ),
    "cell": (
        "padding:14px 16px;font-family:Arial,Helvetica,sans-serif;font-size:15px;"
        "line-height:1.45;color:#1a1a1a;word-wrap:break-word;overflow-wrap:anywhere;"
    ),
    "org": "margin:0 0 2px 0;font-size:14px;color:#4a4a4a;",
    "h1": "margin:0 0 4px 0;font-size:22px;line-height:1.25;font-weight:bold;color:#1a1a1a;",
    "h2": (
        "margin:0 0 8px 0;font-size:18px;line-height:1.3;font-weight:bold;color:#1a1a1a;"
        "border-bottom:2px solid #1a1a1a;padding-bottom:3px;"
    ),
    "h3": "margin:12px 0 4px 0;font-size:16px;line-height:1.3;font-weight:bold;color:#1a1a1a;",
    "p": "margin:0 0 8px 0;",
    "muted": "margin:0 0 6px 0;font-size:14px;line-height:1.4;color:#4a4a4a;",
    "a": "color:#0645ad;text-decoration:underline;",
    "calm": (
        "margin:0 0 8px 0;padding:12px;border:2px solid #1a1a1a;font-size:17px;"
        "font-weight:bold;background-color:#f4f8f4;"
    ),
    "summary": "margin:0 0 8px 0;padding:10px 12px;background-color:#f4f4f4;",
    "item": "padding:8px 0 10px 0;border-top:1px solid #ddd;",
    "urgent_item": (
        "padding:8px 10px 10px 10px;border-top:1px solid #ddd;"
        "border-left:4px solid #111;background-color:#fff6e8;"
    ),
    "item_title": "margin:0 0 2px 0;",
    "shared": "margin:0 0 2px 0;font-size:14px;font-weight:bold;color:#1a1a1a;",
    "notice": (
        "margin:0 0 10px 0;padding:8px 10px;border:2px solid #1a1a1a;font-size:14px;"
        "background-color:#f4f4f4;"
    ),
    "item_text": "margin:0 0 4px 0;",
    "item_meta": "margin:0 0 4px 0;font-size:14px;color:#444;",
    "table": "width:100%;border-collapse:collapse;font-size:14px;",
    "th": (
        "text-align:left;padding:4px 6px;border-bottom:2px solid #1a1a1a;"
        "font-family:Arial,Helvetica,sans-serif;font-size:14px;"
    ),
    "td": (
        "text-align:left;padding:4px 6px;border-bottom:1px solid #dddddd;"
        "font-family:Arial,Helvetica,sans-serif;font-size:14px;vertical-align:top;"
    ),
    "num": (
        "text-align:right;padding:4px 6px;border-bottom:1px solid #dddddd;"
        "font-family:Arial,Helvetica,sans-serif;font-size:14px;vertical-align:top;"
    ),
    "img": (
        "display:inline-block;border:1px solid #c8c8c8;margin:4px 4px 0 0;"
        "width:96px;max-width:96px;height:auto;"
    ),
    "chart": "display:block;border:0;width:100%;max-width:600px;height:auto;",
    "footer": "margin:0 0 4px 0;font-size:14px;line-height:1.4;color:#4a4a4a;",
}
# The workspace page's print style (the page is the printable weekly/monthly lägesbild).
PRINT_CSS = (
    "@media print{body{background:#fff!important}"
    "table{max-width:none!important;border:0!important}"
    "a{color:#000!important}.noprint{display:none!important}"
    "tr,p,img{page-break-inside:avoid}h2,h3{page-break-after:avoid}}"
)
