package io.jcontainerd.gc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The few query shapes the metadata resources need. */
final class Sql {
    private Sql() {}

    /** Rows of string columns. */
    static List<String[]> rows(Connection tx, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setString(i + 1, args[i]);
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                List<String[]> out = new ArrayList<>();
                while (rs.next()) {
                    String[] row = new String[n];
                    for (int i = 0; i < n; i++) row[i] = rs.getString(i + 1);
                    out.add(row);
                }
                return out;
            }
        }
    }

    /** key → value of the two-column result. */
    static Map<String, String> labels(Connection tx, String sql, String... args) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String[] r : rows(tx, sql, args)) out.put(r[0], r[1]);
        return out;
    }

    static int update(Connection tx, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setString(i + 1, args[i]);
            return ps.executeUpdate();
        }
    }
}
