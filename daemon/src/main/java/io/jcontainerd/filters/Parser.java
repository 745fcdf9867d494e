package io.jcontainerd.filters;

import static io.jcontainerd.filters.Scanner.EOF;
import static io.jcontainerd.filters.Scanner.FIELD;
import static io.jcontainerd.filters.Scanner.OPERATOR;
import static io.jcontainerd.filters.Scanner.QUOTED;
import static io.jcontainerd.filters.Scanner.SEPARATOR;
import static io.jcontainerd.filters.Scanner.VALUE;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.filters.Scanner.Token;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Recursive-descent parser for one filter string:
 * <pre>
 * selectors := selector ("," selector)*
 * selector  := fieldpath [operator value]
 * fieldpath := field ("." field)*
 * field     := [A-Za-z0-9_-]+ | "quoted"
 * operator  := "==" | "!=" | "~="
 * value     := quoted | bare run up to "," or white space
 * </pre>
 * Quoted values may also be delimited by {@code /.../} or {@code |...|}, but only after {@code ~=}.
 */
final class Parser {
    private final String input;
    private final Scanner scanner;

    Parser(String input) {
        this.input = input;
        this.scanner = new Scanner(input);
    }

    Filter parse() {
        List<Filter> selectors = new ArrayList<>();
        selectors.add(selector());
        while (true) {
            int next = scanner.peek();
            if (next == EOF) break;
            if (next != ',') {
                // containerd does not skip blanks here: "a==b ,c" fails at the blank
                throw error(scanner.peekPos(), "unexpected input: " + (next >= 0 ? Character.toString(next) : "\uFFFD"));
            }
            scanner.scan();
            selectors.add(selector());
        }
        return selectors.size() == 1 ? selectors.getFirst() : new Filter.AllOf(List.copyOf(selectors));
    }

    private Selector selector() {
        List<String> path = fieldpath();
        int next = scanner.peek();
        if (next == ',' || next == EOF) return new Selector(path, Selector.Op.PRESENT, null, null);

        Selector.Op op = operator();
        Token t = scanner.scan();
        String value = switch (t.kind()) {
            case VALUE, FIELD -> t.text();
            case QUOTED -> unquote(t, op == Selector.Op.MATCHES);
            default -> throw error(t.pos(), "expected value or quoted");
        };
        Pattern regexp = op == Selector.Op.MATCHES ? compile(value, t.pos()) : null;
        return new Selector(path, op, value, regexp);
    }

    private List<String> fieldpath() {
        List<String> path = new ArrayList<>();
        path.add(field());
        while (scanner.peek() == '.') {
            scanner.scan();
            path.add(field());
        }
        return List.copyOf(path);
    }

    private String field() {
        Token t = scanner.scan();
        return switch (t.kind()) {
            case FIELD -> t.text();
            case QUOTED -> unquote(t, false);
            default -> throw error(t.pos(), "expected field or quoted");
        };
    }

    private Selector.Op operator() {
        Token t = scanner.scan();
        if (t.kind() != OPERATOR) throw error(t.pos(), "expected an operator (\"==\"|\"!=\"|\"~=\")");
        return switch (t.text()) {
            case "==" -> Selector.Op.EQUAL;
            case "!=" -> Selector.Op.NOT_EQUAL;
            case "~=" -> Selector.Op.MATCHES;
            default -> throw error(t.pos(), "unsupported operator " + quote(t.text()));
        };
    }

    private String unquote(Token t, boolean allowAltQuotes) {
        // "/" and "|" delimit regular expressions only; field names and plain values take "..."
        if (!allowAltQuotes && t.text().charAt(0) != '"') throw error(t.pos(), "invalid quote encountered");
        String s = unquote(t.text());
        if (s == null) throw error(t.pos(), "unquoting failed: quote syntax error");
        return s;
    }

    private Pattern compile(String regexp, int pos) {
        try {
            return Pattern.compile(GoRegexp.toJava(regexp));
        } catch (PatternSyntaxException e) {
            throw error(pos, "invalid regular expression " + quote(regexp) + ": " + e.getDescription());
        }
    }

    private ContainerdException error(int pos, String message) {
        return Errdefs.invalidArgument("filters: parse error at position %d in %s: %s", pos, quote(input), message);
    }

    /**
     * Decodes a literal delimited by {@code "}, {@code /} or {@code |} with Go's escapes ({@code \n},
     * {@code \x41}, {@code \101}, {@code \u00e9}, {@code \U0001F600}, {@code \\}, and the delimiter
     * itself). {@code \x} and octal escapes give raw bytes, which are read back as UTF-8.
     * Returns null on a syntax error.
     */
    static String unquote(String s) {
        int n = s.length();
        if (n < 2) return null;
        char quote = s.charAt(0);
        if (quote != s.charAt(n - 1) || (quote != '"' && quote != '/' && quote != '|')) return null;
        String body = s.substring(1, n - 1);
        if (body.indexOf('\n') >= 0) return null;
        if (body.indexOf('\\') < 0 && body.indexOf(quote) < 0) return body;

        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length());
        int i = 0;
        while (i < body.length()) {
            int c = body.codePointAt(i);
            if (c == quote) return null;
            if (c != '\\') {
                out.writeBytes(utf8(c));
                i += Character.charCount(c);
                continue;
            }
            if (i + 1 >= body.length()) return null;
            char e = body.charAt(i + 1);
            i += 2;
            switch (e) {
                case 'a' -> out.write(7);
                case 'b' -> out.write('\b');
                case 'f' -> out.write('\f');
                case 'n' -> out.write('\n');
                case 'r' -> out.write('\r');
                case 't' -> out.write('\t');
                case 'v' -> out.write(11);
                case '\\' -> out.write('\\');
                case '"', '/', '|', '\'' -> {
                    if (e != quote) return null;
                    out.write(e);
                }
                case 'x', 'u', 'U' -> {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + digits > body.length()) return null;
                    long v = 0;
                    for (int j = 0; j < digits; j++) {
                        int d = Character.digit(body.charAt(i + j), 16);
                        if (d < 0 || body.charAt(i + j) > 'f') return null;
                        v = v << 4 | d;
                    }
                    i += digits;
                    if (e == 'x') {
                        out.write((int) v);
                    } else {
                        if (v > Character.MAX_CODE_POINT) return null;
                        out.writeBytes(utf8((int) v));
                    }
                }
                case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                    if (i + 2 > body.length()) return null;
                    int v = e - '0';
                    for (int j = 0; j < 2; j++) {
                        int d = body.charAt(i + j) - '0';
                        if (d < 0 || d > 7) return null;
                        v = v << 3 | d;
                    }
                    i += 2;
                    if (v > 255) return null;
                    out.write(v);
                }
                default -> {
                    return null;
                }
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static byte[] utf8(int cp) {
        if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) cp = 0xFFFD; // as Go encodes them
        return Character.toString(cp).getBytes(StandardCharsets.UTF_8);
    }

    /** Go's %q, near enough for error messages. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        s.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7F) b.append("\\x%02x".formatted(c));
                    else b.appendCodePoint(c);
                }
            }
        });
        return b.append('"').toString();
    }
}
