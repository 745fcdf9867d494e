package io.jcontainerd.client.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Column output like Go's tabwriter as ctr configures it: each cell padded to the column's width plus padding. */
final class Table {
    private final int minWidth;
    private final int padding;
    private final List<String[]> rows = new ArrayList<>();

    Table(int minWidth, int padding) {
        this.minWidth = minWidth;
        this.padding = padding;
    }

    Table row(Object... cells) {
        String[] r = new String[cells.length];
        for (int i = 0; i < cells.length; i++) r[i] = String.valueOf(cells[i]);
        rows.add(r);
        return this;
    }

    void print(PrintWriter out) {
        int cols = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        int[] w = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < r.length - 1; i++) w[i] = Math.max(w[i], Math.max(minWidth, r[i].length() + padding));
        }
        for (String[] r : rows) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                b.append(r[i]);
                if (i < r.length - 1) b.append(" ".repeat(w[i] - r[i].length()));
            }
            out.println(b);
        }
        out.flush();
    }

    /** containerd's progress.Bytes: "%02.1f" in binary units. */
    static String bytes(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String labels(java.util.Map<String, String> labels) {
        if (labels.isEmpty()) return "-";
        return String.join(",", labels.entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "=" + e.getValue()).toList());
    }
}
