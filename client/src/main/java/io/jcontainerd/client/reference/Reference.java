package io.jcontainerd.client.reference;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An image reference normalised the way Docker and containerd do it: a missing domain is
 * {@code docker.io}, official images get {@code library/}, a missing tag and digest is {@code latest}.
 * {@code busybox} → {@code docker.io/library/busybox:latest}; {@code host:5000/x/y@sha256:...} keeps
 * its host and digest; {@code name:tag@digest} keeps both (the digest decides what is fetched).
 *
 * @param domain registry host, with port if any ({@code docker.io}, {@code 127.0.0.1:5000})
 * @param path   repository path ({@code library/busybox})
 * @param tag    tag, or null
 * @param digest digest ({@code sha256:<64 hex>}), or null
 */
public record Reference(String domain, String path, String tag, String digest) {
    public static final String DEFAULT_DOMAIN = "docker.io";
    public static final String LEGACY_DEFAULT_DOMAIN = "index.docker.io";
    public static final String DEFAULT_TAG = "latest";
    public static final int NAME_MAX = 255;

    private static final String ALNUM = "[a-z0-9]+";
    private static final String SEPARATOR = "(?:[._]|__|[-]*)";
    private static final String COMPONENT = ALNUM + "(?:" + SEPARATOR + ALNUM + ")*";
    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final String DOMAIN = DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*(?::[0-9]+)?";
    private static final String TAG = "[\\w][\\w.-]{0,127}";
    private static final String DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    private static final Pattern NAME = Pattern.compile("(?:(" + DOMAIN + ")/)?(" + COMPONENT + "(?:/" + COMPONENT + ")*)");
    private static final Pattern FULL = Pattern.compile("((?:" + DOMAIN + "/)?" + COMPONENT + "(?:/" + COMPONENT + ")*)"
            + "(?::(" + TAG + "))?(?:@(" + DIGEST + "))?");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-f0-9]{64}");
    private static final Pattern SHA256 = Pattern.compile("sha256:[a-f0-9]{64}");
    private static final Pattern SHA512 = Pattern.compile("sha512:[a-f0-9]{128}");

    /** Parses and normalises {@code s}; throws {@link InvalidReferenceException} with Docker's messages. */
    public static Reference parse(String s) {
        if (s == null || s.isEmpty()) throw new InvalidReferenceException("invalid reference format: repository name must have at least one component");
        if (IDENTIFIER.matcher(s).matches()) {
            throw new InvalidReferenceException("invalid repository name (" + s + "), cannot specify 64-byte hexadecimal strings");
        }
        String domain;
        String remainder;
        int slash = s.indexOf('/');
        if (slash == -1 || (!containsAny(s.substring(0, slash), ".:") && !s.substring(0, slash).equals("localhost"))) {
            domain = DEFAULT_DOMAIN;
            remainder = s;
        } else {
            domain = s.substring(0, slash);
            remainder = s.substring(slash + 1);
        }
        if (domain.equals(LEGACY_DEFAULT_DOMAIN)) domain = DEFAULT_DOMAIN;
        if (domain.equals(DEFAULT_DOMAIN) && remainder.indexOf('/') == -1) remainder = "library/" + remainder;
        int tagSep = remainder.indexOf(':');
        String remoteName = tagSep > -1 ? remainder.substring(0, tagSep) : remainder;
        int at = remoteName.indexOf('@');
        if (at > -1) remoteName = remoteName.substring(0, at);
        if (!remoteName.toLowerCase(java.util.Locale.ROOT).equals(remoteName)) {
            throw new InvalidReferenceException("invalid reference format: repository name must be lowercase: " + quote(s));
        }
        String full = domain + "/" + remainder;
        Matcher m = FULL.matcher(full);
        if (!m.matches()) throw new InvalidReferenceException("invalid reference format: " + quote(s));
        String name = m.group(1);
        if (name.length() > NAME_MAX) {
            throw new InvalidReferenceException("invalid reference format: repository name must not be more than " + NAME_MAX + " characters");
        }
        Matcher nm = NAME.matcher(name);
        if (!nm.matches()) throw new InvalidReferenceException("invalid reference format: " + quote(s));
        String tag = m.group(2);
        String digest = m.group(3);
        if (digest != null) validateDigest(digest);
        if (tag == null && digest == null) tag = DEFAULT_TAG;
        return new Reference(nm.group(1), nm.group(2), tag, digest);
    }

    /** Validates a digest string: known algorithms need their exact hex length, lowercase. */
    public static void validateDigest(String digest) {
        String alg = digest.substring(0, Math.max(0, digest.indexOf(':')));
        boolean ok = switch (alg) {
            case "sha256" -> SHA256.matcher(digest).matches();
            case "sha512" -> SHA512.matcher(digest).matches();
            default -> false;
        };
        if (!ok) throw new InvalidReferenceException("invalid digest format: " + quote(digest));
    }

    /** {@code domain/path}: the repository name. */
    public String name() {
        return domain + "/" + path;
    }

    /** The full normalised string: {@code name[:tag][@digest]}. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(name());
        if (tag != null) b.append(':').append(tag);
        if (digest != null) b.append('@').append(digest);
        return b.toString();
    }

    /** What the registry is asked for: the digest when there is one, else the tag. */
    public String object() {
        return digest != null ? digest : tag;
    }

    /** The same repository with another tag (digest dropped). */
    public Reference withTag(String newTag) {
        if (!newTag.matches(TAG)) throw new InvalidReferenceException("invalid tag format: " + quote(newTag));
        return new Reference(domain, path, newTag, null);
    }

    /** The same repository pinned to a digest (tag dropped), as containerd's ParseDockerRef gives. */
    public Reference withDigest(String newDigest) {
        validateDigest(newDigest);
        return new Reference(domain, path, null, newDigest);
    }

    /** Docker's short form: {@code busybox:latest}, {@code user/repo:tag}, other hosts kept. */
    public String familiar() {
        String p = path;
        String d = domain;
        StringBuilder b = new StringBuilder();
        if (d.equals(DEFAULT_DOMAIN)) {
            if (p.startsWith("library/") && p.indexOf('/', 8) == -1) p = p.substring(8);
        } else {
            b.append(d).append('/');
        }
        b.append(p);
        if (tag != null) b.append(':').append(tag);
        if (digest != null) b.append('@').append(digest);
        return b.toString();
    }

    private static boolean containsAny(String s, String chars) {
        for (char c : chars.toCharArray()) if (s.indexOf(c) >= 0) return true;
        return false;
    }

    private static String quote(String s) {
        return '"' + s + '"';
    }
}
