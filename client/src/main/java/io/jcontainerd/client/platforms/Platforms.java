package io.jcontainerd.client.platforms;

import io.jcontainerd.client.ClientException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Platform specifiers as containerd reads them: parsing ({@code linux}, {@code arm64},
 * {@code linux/arm/v7}), normalisation of architecture aliases and arm variants, and matchers
 * (exact, "only" with the compatible fallbacks in preference order, any, all).
 */
public final class Platforms {
    private static final Pattern COMPONENT = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Set<String> KNOWN_OS = Set.of("aix", "android", "darwin", "dragonfly", "freebsd", "hurd",
            "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos");
    private static final Set<String> KNOWN_ARCH = Set.of("386", "amd64", "amd64p32", "arm", "armbe", "arm64",
            "arm64be", "ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32",
            "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm");

    private static volatile Platform host;

    private Platforms() {}

    /** The host's platform (normalised): linux/amd64 on x86-64. */
    public static Platform defaultPlatform() {
        Platform p = host;
        if (p == null) {
            host = p = normalize(new Platform(hostOs(), System.getProperty("os.arch", "amd64"), ""));
        }
        return p;
    }

    private static String hostOs() {
        String os = System.getProperty("os.name", "linux").toLowerCase(Locale.ROOT);
        if (os.startsWith("mac")) return "darwin";
        if (os.startsWith("windows")) return "windows";
        return os;
    }

    /** {@code os/arch[/variant]}. */
    public static String format(Platform p) {
        if (p.os().isEmpty()) return "unknown";
        StringBuilder b = new StringBuilder(p.os());
        if (!p.architecture().isEmpty()) b.append('/').append(p.architecture());
        if (!p.variant().isEmpty()) b.append('/').append(p.variant());
        return b.toString();
    }

    /** Parses a specifier; an unknown single component or a malformed one is InvalidArgument. */
    public static Platform parse(String specifier) {
        if (specifier.contains("*")) throw ClientException.invalidArgument("%s: wildcards not yet supported", quoted(specifier));
        String[] parts = specifier.split("/", -1);
        for (String part : parts) {
            if (!COMPONENT.matcher(part).matches()) {
                throw ClientException.invalidArgument("%s is an invalid component of %s: platform specifier component must match %s",
                        quoted(part), quoted(specifier), quoted("^[A-Za-z0-9_-]+$"));
            }
        }
        Platform d = defaultPlatform();
        switch (parts.length) {
            case 1 -> {
                String os = normalizeOs(parts[0]);
                if (KNOWN_OS.contains(os)) return new Platform(os, d.architecture(), d.architecture().equals("arm") ? d.variant() : "");
                String[] av = normalizeArch(parts[0], "");
                String variant = av[0].equals("arm") && av[1].equals("v7") ? "" : av[1];
                if (KNOWN_ARCH.contains(av[0])) return new Platform(d.os(), av[0], variant);
                throw ClientException.invalidArgument("%s: unknown operating system or architecture", quoted(specifier));
            }
            case 2 -> {
                String[] av = normalizeArch(parts[1], "");
                String variant = av[0].equals("arm") && av[1].equals("v7") ? "" : av[1];
                return new Platform(normalizeOs(parts[0]), av[0], variant);
            }
            case 3 -> {
                String[] av = normalizeArch(parts[1], parts[2]);
                String variant = av[0].equals("arm64") && av[1].isEmpty() ? "v8" : av[1];
                return new Platform(normalizeOs(parts[0]), av[0], variant);
            }
            default -> throw ClientException.invalidArgument("%s: cannot parse platform specifier", quoted(specifier));
        }
    }

    /** Aliases resolved (x86_64 → amd64, aarch64 → arm64, armhf → arm/v7, ...), default variants applied. */
    public static Platform normalize(Platform p) {
        String[] av = normalizeArch(p.architecture(), p.variant());
        return new Platform(normalizeOs(p.os()), av[0], av[1], p.osVersion());
    }

    static String normalizeOs(String os) {
        if (os == null || os.isEmpty()) return hostOs();
        os = os.toLowerCase(Locale.ROOT);
        return os.equals("macos") ? "darwin" : os;
    }

    static String[] normalizeArch(String arch, String variant) {
        arch = arch.toLowerCase(Locale.ROOT);
        variant = variant.toLowerCase(Locale.ROOT);
        switch (arch) {
            case "i386" -> {
                arch = "386";
                variant = "";
            }
            case "x86_64", "x86-64", "amd64" -> {
                arch = "amd64";
                if (variant.equals("v1")) variant = "";
            }
            case "aarch64", "arm64" -> {
                arch = "arm64";
                if (variant.equals("8") || variant.equals("v8")) variant = "";
            }
            case "armhf" -> {
                arch = "arm";
                variant = "v7";
            }
            case "armel" -> {
                arch = "arm";
                variant = "v6";
            }
            case "arm" -> {
                switch (variant) {
                    case "", "7" -> variant = "v7";
                    case "5", "6", "8" -> variant = "v" + variant;
                    default -> { }
                }
            }
            default -> { }
        }
        return new String[] {arch, variant};
    }

    private static String quoted(String s) {
        return '"' + s + '"';
    }

    /** Decides whether a platform is wanted and, among wanted ones, which is preferred. */
    public interface Matcher extends Comparator<Platform> {
        boolean match(Platform p);

        /** Negative when {@code a} is preferred over {@code b}. */
        @Override
        default int compare(Platform a, Platform b) {
            return 0;
        }
    }

    /** Exactly this platform (after normalisation of both sides). */
    public static Matcher exact(Platform want) {
        Platform w = normalize(want);
        return p -> {
            Platform n = normalize(p);
            return n.os().equals(w.os()) && n.architecture().equals(w.architecture()) && n.variant().equals(w.variant());
        };
    }

    /** The platform and the ones it can run, in order of preference (containerd's {@code platforms.Only}). */
    public static Matcher only(Platform p) {
        return ordered(vector(normalize(p)));
    }

    /** Exactly the platform, nothing compatible ({@code platforms.OnlyStrict}). */
    public static Matcher onlyStrict(Platform p) {
        return ordered(List.of(normalize(p)));
    }

    /** The host default: {@code only(defaultPlatform())}. */
    public static Matcher defaultMatcher() {
        return only(defaultPlatform());
    }

    /** Any of the platforms, earlier ones preferred. */
    public static Matcher ordered(List<Platform> platforms) {
        List<Matcher> ms = platforms.stream().map(Platforms::exact).toList();
        return new Matcher() {
            @Override
            public boolean match(Platform p) {
                return ms.stream().anyMatch(m -> m.match(p));
            }

            @Override
            public int compare(Platform a, Platform b) {
                for (Matcher m : ms) {
                    boolean am = m.match(a), bm = m.match(b);
                    if (am && !bm) return -1;
                    if (bm && !am) return 1;
                    if (am) return 0;
                }
                return 0;
            }
        };
    }

    /** Every platform. */
    public static Matcher all() {
        return p -> true;
    }

    private static List<Platform> vector(Platform p) {
        List<Platform> v = new ArrayList<>();
        v.add(p);
        switch (p.architecture()) {
            case "amd64" -> {
                int level = variantNumber(p.variant());
                for (int l = level - 1; level > 1 && l >= 1; l--) {
                    v.add(new Platform(p.os(), "amd64", "v" + l, p.osVersion()));
                }
                v.add(new Platform(p.os(), "386", "", p.osVersion()));
            }
            case "arm" -> {
                int level = variantNumber(p.variant());
                for (int l = level - 1; level > 5 && l >= 5; l--) {
                    v.add(new Platform(p.os(), "arm", "v" + l, p.osVersion()));
                }
            }
            case "arm64" -> v.addAll(vector(new Platform(p.os(), "arm", p.variant().isEmpty() ? "v8" : p.variant(), p.osVersion())));
            default -> { }
        }
        return v;
    }

    private static int variantNumber(String variant) {
        try {
            return Integer.parseInt(variant.startsWith("v") ? variant.substring(1) : variant);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
