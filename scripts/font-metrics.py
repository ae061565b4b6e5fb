#!/usr/bin/env python3
"""Prints the advance widths of a TrueType font's characters, in 1/1000 em, as C++ array rows:
what experiments/plots/text_metrics.cpp measures text with. Reads the font's own tables
(head: units per em; hhea: how many long metrics; hmtx: advances; cmap format 4: character to
glyph), so the table comes from the installed font and nothing else.

  python3 scripts/font-metrics.py /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
"""
import struct
import sys

EXTRA = "\u00a0·−±×—…≈Σ²³⁻→"  # the non-ASCII characters the figures write


def tables(font):
    count = struct.unpack(">H", font[4:6])[0]
    out = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack(">4sIII", font[12 + 16 * i:28 + 16 * i])
        out[tag.decode()] = font[offset:offset + length]
    return out


def glyph_map(cmap):
    """Character → glyph from the Unicode BMP subtable (platform 3, encoding 1, format 4)."""
    count = struct.unpack(">H", cmap[2:4])[0]
    for i in range(count):
        platform, encoding, offset = struct.unpack(">HHI", cmap[4 + 8 * i:12 + 8 * i])
        sub = cmap[offset:]
        if platform == 3 and encoding == 1 and struct.unpack(">H", sub[:2])[0] == 4:
            break
    else:
        sys.exit("no Unicode format-4 cmap subtable")
    segments = struct.unpack(">H", sub[6:8])[0] // 2
    arrays = [struct.unpack(">%dH" % segments, sub[at:at + 2 * segments])
              for at in (14, 16 + 2 * segments, 16 + 4 * segments, 16 + 6 * segments)]
    ends, starts, deltas, range_offsets = arrays
    range_base = 16 + 6 * segments

    def glyph(code):
        for k in range(segments):
            if starts[k] <= code <= ends[k]:
                if range_offsets[k] == 0:
                    return (code + deltas[k]) & 0xFFFF
                at = range_base + 2 * k + range_offsets[k] + 2 * (code - starts[k])
                g = struct.unpack(">H", sub[at:at + 2])[0]
                return (g + deltas[k]) & 0xFFFF if g else 0
        return 0
    return glyph


def main():
    font = open(sys.argv[1], "rb").read()
    t = tables(font)
    units = struct.unpack(">H", t["head"][18:20])[0]
    long_metrics = struct.unpack(">H", t["hhea"][34:36])[0]
    glyph = glyph_map(t["cmap"])

    def advance(ch):
        g = min(glyph(ord(ch)), long_metrics - 1)
        return round(1000 * struct.unpack(">H", t["hmtx"][4 * g:4 * g + 2])[0] / units)
    ascii_row = [advance(chr(c)) for c in range(32, 127)]
    for i in range(0, len(ascii_row), 16):
        print(", ".join(str(w) for w in ascii_row[i:i + 16]) + ",")
    for ch in dict.fromkeys(EXTRA):
        print("{0x%04X, %d}," % (ord(ch), advance(ch)))


main()
