#!/usr/bin/env python3
"""A full-screen window that reports every mouse button and key press reaching it, for the
input injection tests.

Prints one line per event, flushed at once:
  press <button> <x> <y>     a mouse button went down at root coordinates (x, y); the wheel
                             arrives as buttons 4 (up), 5 (down), 6 (left) and 7 (right)
  key <keysym> <state>       a key went down; <state> is the X modifier mask in decimal
                             (1 Shift, 4 Control, 8 Mod1/Alt)
  line <text>                Enter was pressed in the text field; <text> is what it held
  ready                      the window is up and the text field has the keyboard focus
"""
import tkinter as tk

root = tk.Tk()
root.overrideredirect(True)
width, height = root.winfo_screenwidth(), root.winfo_screenheight()
root.geometry(f"{width}x{height}+0+0")
entry = tk.Entry(root, font=("DejaVu Sans", 16), width=40)
entry.place(x=width // 2, y=height // 2, anchor="center")


def emit(line):
    print(line, flush=True)


def on_press(event):
    emit(f"press {event.num} {event.x_root} {event.y_root}")


def on_key(event):
    emit(f"key {event.keysym} {event.state}")


def on_return(_event):
    emit(f"line {entry.get()}")
    entry.delete(0, tk.END)


root.bind_all("<ButtonPress>", on_press)
root.bind_all("<KeyPress>", on_key)
entry.bind("<Return>", on_return)


def ready():
    entry.focus_force()
    root.update()
    emit("ready")


root.after(200, ready)
root.mainloop()
