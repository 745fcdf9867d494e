package io.jcontainerd.filters;

/**
 * Tokenizer for filter strings, following containerd's scanner rune for rune so that what parses,
 * what fails and where it fails agree with containerd. Positions are UTF-8 byte offsets, as there.
 */
final class Scanner {
    // Token kinds are negative so that any other code point stands for itself, as a stray-character token.
    static final int EOF = -1;
    static final int QUOTED = -2;
    static final int VALUE = -3;
    static final int FIELD = -4;
    static final int SEPARATOR = -5;
    static final int OPERATOR = -6;
    static final int ILLEGAL = -7;

    /** A scanned token; {@code pos} is the byte offset reported in errors. */
    record Token(int pos, int kind, String text) {}

    private final String input;
    private final int[] runes;
    private final int[] offsets; // offsets[i] = byte offset of runes[i]; offsets[n] = byte length
    private int pos;  // index of the rune last read
    private int next; // index of the rune after it
    private boolean value; // an operator was just read, so the next bare word is a value

    Scanner(String input) {
        this.input = input;
        this.runes = input.codePoints().toArray();
        this.offsets = new int[runes.length + 1];
        for (int i = 0; i < runes.length; i++) {
            offsets[i + 1] = offsets[i] + utf8Length(runes[i]);
        }
    }

    /** Byte offset of the rune after the one last read: where a peeked rune starts. */
    int peekPos() {
        return offsets[next];
    }

    int read() {
        if (pos >= runes.length) return EOF;
        pos = next;
        if (next >= runes.length) return EOF;
        int r = runes[next++];
        return r == 0 ? ILLEGAL : r;
    }

    int peek() {
        int p = pos, n = next;
        int r = read();
        pos = p;
        next = n;
        return r;
    }

    Token scan() {
        int ch = read();
        int start = pos;
        while (true) {
            if (ch == EOF || ch == ILLEGAL) break;
            if (isQuote(ch)) {
                int kind = scanQuoted(ch) ? QUOTED : ILLEGAL;
                return token(start, kind);
            }
            if (ch == ',' || ch == '.') {
                value = false;
                return token(start, SEPARATOR);
            }
            if (isOperator(ch)) {
                while (isOperator(peek())) read();
                value = true;
                return token(start, OPERATOR);
            }
            if (isSpace(ch)) {
                ch = read();
                start = pos;
                continue;
            }
            if (value) {
                while (isValueRune(peek())) read();
                value = false;
                return token(start, VALUE);
            }
            if (isFieldRune(ch)) {
                while (isFieldRune(peek())) read();
                return token(start, FIELD);
            }
            break;
        }
        return new Token(offsets[pos], ch, "");
    }

    private Token token(int start, int kind) {
        return new Token(offsets[start], kind, input.substring(charIndex(start), charIndex(next)));
    }

    private int charIndex(int runeIndex) {
        return input.offsetByCodePoints(0, runeIndex);
    }

    /** Reads up to the closing quote; false when the literal is unterminated or has a bad escape. */
    private boolean scanQuoted(int quote) {
        badEscape = false;
        int ch = read();
        while (ch != quote) {
            if (ch == '\n' || ch < 0) return false;
            ch = ch == '\\' ? scanEscape(quote) : read();
        }
        return !badEscape;
    }

    private boolean badEscape;

    /** Reads an escape sequence after its backslash; returns the rune following it. */
    private int scanEscape(int quote) {
        int ch = read();
        return switch (ch) {
            case 'a', 'b', 'f', 'n', 'r', 't', 'v', '\\' -> read();
            case '0', '1', '2', '3', '4', '5', '6', '7' -> scanDigits(ch, 8, 3);
            case 'x' -> scanDigits(read(), 16, 2);
            case 'u' -> scanDigits(read(), 16, 4);
            case 'U' -> scanDigits(read(), 16, 8);
            default -> {
                if (ch == quote) yield read();
                badEscape = true; // the escaped rune is then read on as literal text
                yield ch;
            }
        };
    }

    private int scanDigits(int ch, int base, int n) {
        while (n > 0 && digitValue(ch) < base) {
            ch = read();
            n--;
        }
        if (n > 0) badEscape = true;
        return ch;
    }

    private static int digitValue(int ch) {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        return 16;
    }

    static boolean isFieldRune(int r) {
        return r == '-' || r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9');
    }

    private static boolean isOperator(int r) {
        return r == '=' || r == '!' || r == '~';
    }

    private static boolean isQuote(int r) {
        return r == '"' || r == '/' || r == '|';
    }

    /** Go's unicode.IsSpace. */
    static boolean isSpace(int r) {
        if (r < 0) return false;
        if (r <= 0xFF) return (r >= '\t' && r <= '\r') || r == ' ' || r == 0x85 || r == 0xA0;
        return Character.isSpaceChar(r);
    }

    /** Anything printable but a comma or white space (Go's letters, digits, graphics and punctuation). */
    private static boolean isValueRune(int r) {
        if (r < 0 || r == ',' || isSpace(r)) return false;
        return switch (Character.getType(r)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE,
                 Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }

    private static int utf8Length(int cp) {
        if (cp < 0x80) return 1;
        if (cp < 0x800) return 2;
        if (cp < 0x10000) return 3;
        return 4;
    }
}
