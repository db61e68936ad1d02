### The questions only the novice can answer: may a helper see the screen, may they control it.

request-see-title = { $expert } wants to see your screen
request-see-body = If you allow it, { $expert } sees everything on your screen until the session ends. They cannot use your mouse or keyboard unless you allow that too.
request-offer-title = { $operator } from { $organisation } offers to help you
request-offer-body = { $operator } works at the { $organisation } support desk. If you allow it, they see everything on your screen until the session ends. They cannot use your mouse or keyboard unless you allow that too.
request-control-title = { $expert } wants to control your computer
request-control-body = If you allow it, { $expert } can use your mouse and keyboard as if they were sitting at your computer.
# "Stop control" is the button session-stop-control
request-control-how-to-stop =
    You can take control back at any time:
    • hold down the Esc key for a second,
    • press Ctrl+C in this window, or
    • click “Stop control”.
# $left is a duration
request-time-left = You have { $left } to answer.
request-allow = Allow
request-decline = Decline
request-expired = You did not answer in time, so the request was declined.
