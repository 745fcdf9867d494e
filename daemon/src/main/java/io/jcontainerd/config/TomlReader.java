package io.jcontainerd.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.dataformat.toml.TomlFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses TOML text into a plain tree: {@code LinkedHashMap<String,Object>} tables, {@code List} arrays,
 * and {@code String}, {@code Long}, {@code Double}, {@code Boolean} leaves (dates and times stay strings).
 * Only jackson's {@link TomlFactory} and {@link JsonParser} are used: the TOML module builds jackson's
 * node tree internally, but ObjectMapper and the rest of databind's binding machinery never load.
 */
final class TomlReader {
    private TomlReader() {}

    /** Parses {@code text}; syntax errors carry line and column but no file (the caller adds it). */
    static Map<String, Object> parse(String text) {
        // A fresh factory per parse: parsing happens once or twice per process, and the factory is cheap.
        try (JsonParser p = new TomlFactory().createParser(text)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) throw new ConfigException("TOML document is not a table");
            @SuppressWarnings("unchecked")
            Map<String, Object> root = (Map<String, Object>) read(p, t, List.of());
            return root;
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            int line = loc == null ? 0 : Math.max(loc.getLineNr(), 0);
            int col = loc == null ? 0 : Math.max(loc.getColumnNr(), 0);
            String msg = e.getOriginalMessage();
            if (!msg.isEmpty()) msg = Character.toLowerCase(msg.charAt(0)) + msg.substring(1);
            throw new ConfigException(null, line, col, List.of(), "TOML syntax error: " + msg, e);
        } catch (IOException e) {
            throw new ConfigException(null, 0, 0, List.of(), "cannot parse TOML: " + e.getMessage(), e);
        }
    }

    private static Object read(JsonParser p, JsonToken t, List<Object> path) throws IOException {
        return switch (t) {
            case START_OBJECT -> {
                Map<String, Object> table = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    table.put(name, read(p, p.nextToken(), KeyPath.child(path, name)));
                }
                yield Collections.unmodifiableMap(table);
            }
            case START_ARRAY -> {
                List<Object> list = new ArrayList<>();
                JsonToken e;
                while ((e = p.nextToken()) != JsonToken.END_ARRAY) list.add(read(p, e, KeyPath.child(path, list.size())));
                yield Collections.unmodifiableList(list);
            }
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT -> {
                // TOML integers are 64-bit; jackson hands larger literals over as BigInteger
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw new ConfigException(path, "integer " + p.getText() + " is out of the 64-bit range");
                }
                yield p.getLongValue();
            }
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_EMBEDDED_OBJECT -> String.valueOf(p.getEmbeddedObject()); // java.time values, if enabled
            default -> throw new ConfigException(path, "unexpected TOML token " + t);
        };
    }
}
