package io.jcontainerd.filters;

/**
 * Rewrites the bits of Go (RE2) regular-expression syntax that java.util.regex spells differently,
 * so filters written for containerd mean the same here: named groups {@code (?P<n>...)} and the
 * POSIX classes {@code [:alpha:]} / {@code [:^alpha:]} used inside brackets.
 */
final class GoRegexp {
    private GoRegexp() {}

    private static final String[][] POSIX = {
        {"alnum", "\\p{Alnum}", "\\P{Alnum}"}, {"alpha", "\\p{Alpha}", "\\P{Alpha}"},
        {"ascii", "\\p{ASCII}", "\\P{ASCII}"}, {"blank", "\\p{Blank}", "\\P{Blank}"},
        {"cntrl", "\\p{Cntrl}", "\\P{Cntrl}"}, {"digit", "\\p{Digit}", "\\P{Digit}"},
        {"graph", "\\p{Graph}", "\\P{Graph}"}, {"lower", "\\p{Lower}", "\\P{Lower}"},
        {"print", "\\p{Print}", "\\P{Print}"}, {"punct", "\\p{Punct}", "\\P{Punct}"},
        {"space", "\\s", "\\S"}, {"upper", "\\p{Upper}", "\\P{Upper}"},
        {"word", "\\w", "\\W"}, {"xdigit", "\\p{XDigit}", "\\P{XDigit}"},
    };

    static String toJava(String re) {
        if (re.indexOf('(') < 0 && re.indexOf('[') < 0) return re;
        String out = re.replace("(?P<", "(?<");
        if (out.contains("[:")) {
            for (String[] c : POSIX) {
                out = out.replace("[:" + c[0] + ":]", c[1]).replace("[:^" + c[0] + ":]", c[2]);
            }
        }
        return out;
    }
}
