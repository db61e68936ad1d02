#!/usr/bin/env python3
"""A full-screen test desktop that reports what reaches it, for the remote-control tests.

Prints one line per event, flushed at once:
  press <button> <x> <y>     a mouse button went down at root coordinates (x, y)
  line <text>                Enter was pressed in the text field; <text> is what it held
  ready                      the window is up
Clicking also turns the background to the next colour, so a click shows on the video.
"""
import sys
import tkinter as tk

COLOURS = ["#404040", "#e0e0e0"]

root = tk.Tk()
root.overrideredirect(True)
width, height = root.winfo_screenwidth(), root.winfo_screenheight()
root.geometry(f"{width}x{height}+0+0")
root.configure(background=COLOURS[0])
entry = tk.Entry(root, font=("DejaVu Sans", 16), width=40)
entry.place(x=width // 2, y=height - 60, anchor="center")
state = {"colour": 0}


def emit(line):
    print(line, flush=True)


def on_press(event):
    emit(f"press {event.num} {event.x_root} {event.y_root}")
    if event.num == 1:
        state["colour"] = 1 - state["colour"]
        root.configure(background=COLOURS[state["colour"]])


def on_return(_event):
    emit(f"line {entry.get()}")
    entry.delete(0, tk.END)


root.bind_all("<ButtonPress>", on_press)
entry.bind("<Return>", on_return)


def ready():
    entry.focus_force()
    root.update()
    emit("ready")


root.after(200, ready)
root.mainloop()
