/* ?embed=1 → hide the header before first paint (app.js also checks). A file, not an inline script: the
   page's Content-Security-Policy runs scripts from this server only (server/security.py). */
if (/[?&]embed=1(&|$)/.test(location.search)) document.documentElement.classList.add("embed");
