#!/usr/bin/env python3
"""A full-screen test pattern for the end-to-end tests: four coloured quadrants.

Each line on standard input ("rotate") turns the colours one quadrant clockwise, so a test can
change what is on the display and look for the change on the other side. Prints "ready" once
the window is drawn and after every change.
"""
import sys
import tkinter as tk

# top-left, top-right, bottom-right, bottom-left
colours = ["#e02020", "#20c040", "#2040e0", "#f0d020"]

root = tk.Tk()
root.overrideredirect(True)
width, height = root.winfo_screenwidth(), root.winfo_screenheight()
root.geometry(f"{width}x{height}+0+0")
canvas = tk.Canvas(root, width=width, height=height, highlightthickness=0, borderwidth=0)
canvas.pack()


def draw():
    canvas.delete("all")
    w, h = width // 2, height // 2
    boxes = [(0, 0), (w, 0), (w, h), (0, h)]
    for (x, y), colour in zip(boxes, colours):
        canvas.create_rectangle(x, y, x + w, y + h, fill=colour, outline=colour)
    root.update_idletasks()
    root.update()
    print("ready", flush=True)


def on_input(_file, _mask):
    global colours
    line = sys.stdin.readline()
    if not line:
        root.destroy()
        return
    if line.strip() == "rotate":
        colours = colours[-1:] + colours[:-1]
        draw()


root.tk.createfilehandler(sys.stdin, tk.READABLE, on_input)
root.after(100, draw)
root.mainloop()
