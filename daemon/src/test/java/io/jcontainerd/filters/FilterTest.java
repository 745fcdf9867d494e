package io.jcontainerd.filters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FilterTest {
    record Item(String name, String other, Map<String, String> labels) {
        Adaptor adaptor() {
            return Adaptors.of(Map.of("name", name, "other", other), labels);
        }
    }

    static final List<Item> ITEMS = List.of(
            new Item("redis", "", Map.of("tier", "cache")),                                  // 0
            new Item("nginx", "", Map.of()),                                                 // 1
            new Item("redis", "", Map.of("tier", "db", "a.b", "dotted", "with space", "x")), // 2
            new Item("nginx", "", Map.of("env", "prod")),                                    // 3
            new Item("quoted", "", Map.of("say \"hi\" \\o/", "yes")),                        // 4
            new Item("alpine", "comma, and space", Map.of()),                                // 5
            new Item("busybox", "xyz", Map.of()),                                            // 6
            new Item("punct", "", Map.of("tier", "v1.2_rc-3:x")),                            // 7
            new Item("", "", Map.of("empty", "")));                                          // 8

    static List<Integer> matching(String... filters) {
        Filter f = Filter.parseAll(filters);
        return java.util.stream.IntStream.range(0, ITEMS.size())
                .filter(i -> f.match(ITEMS.get(i).adaptor())).boxed().toList();
    }

    static List<Integer> all() {
        return java.util.stream.IntStream.range(0, ITEMS.size()).boxed().toList();
    }

    @Test
    void emptyFilterAndEmptyListMatchEverything() {
        assertThat(matching()).isEqualTo(all());
        assertThat(matching("")).isEqualTo(all());
        assertThat(Filter.parse("")).isSameAs(Filter.ALWAYS);
        assertThat(Filter.parseAll(List.of())).isSameAs(Filter.ALWAYS);
        assertThat(Filter.parseAll((List<String>) null)).isSameAs(Filter.ALWAYS);
    }

    @Test
    void presence() {
        assertThat(matching("name")).isEqualTo(List.of(0, 1, 2, 3, 4, 5, 6, 7));
        assertThat(matching("labels.tier")).containsExactly(0, 2, 7);
        assertThat(matching("labels.tier,name")).containsExactly(0, 2, 7);
        assertThat(matching("labels.empty")).containsExactly(8); // a label with an empty value is present
        assertThat(matching("labels")).isEmpty();
        assertThat(matching("nosuchfield")).isEmpty();
    }

    @Test
    void equality() {
        assertThat(matching("name==nginx")).containsExactly(1, 3);
        assertThat(matching("labels.tier==cache")).containsExactly(0);
        assertThat(matching("name==nginx,labels.env")).containsExactly(3);
        assertThat(matching("name==nginx,labels.env==staging")).isEmpty();
        assertThat(matching("labels.tier==v1.2_rc-3:x")).containsExactly(7);
        // == needs the field to be present, even when comparing with the empty string
        assertThat(matching("name==\"\"")).isEmpty();
    }

    @Test
    void inequalityTreatsAbsentAsEmpty() {
        assertThat(matching("name!=nginx")).containsExactly(0, 2, 4, 5, 6, 7, 8);
        assertThat(matching("labels.tier!=cache")).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(matching("name!=\"\"")).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    }

    @Test
    void regexpUsesFindSemantics() {
        assertThat(matching("name~=inx")).containsExactly(1, 3);
        assertThat(matching("name~=^r")).containsExactly(0, 2);
        assertThat(matching("other~=[xyz]+,name!=alpine")).containsExactly(6);
        assertThat(matching("other~=/[a-c]{1,2}/")).containsExactly(5);
        assertThat(matching("other~=|, a|")).containsExactly(5);
        assertThat(matching("labels.tier~=^$")).containsExactly(1, 3, 4, 5, 6, 8); // absent reads as ""
        assertThat(matching("name~=^\\w+$")).isEqualTo(List.of(0, 1, 2, 3, 4, 5, 6, 7));
        assertThat(matching("name~=/^(?P<n>[[:alpha:]]+)$/")).isEqualTo(List.of(0, 1, 2, 3, 4, 5, 6, 7));
        assertThat(matching("name~=/[[:^alpha:]]/")).isEmpty();
    }

    @Test
    void listsAreOred() {
        assertThat(matching("name==redis", "labels.env")).containsExactly(0, 2, 3);
        assertThat(matching("name==nope", "")).isEqualTo(all());
        assertThat(Filter.parseAll(List.of("name==x", "name==y"))).isInstanceOf(Filter.AnyOf.class);
    }

    @Test
    void quotedFieldsAndValues() {
        assertThat(matching("labels.\"a.b\"")).containsExactly(2);
        assertThat(matching("labels.a.b==dotted")).containsExactly(2); // the rest of the path is joined with "."
        assertThat(matching("labels.\"with space\"==x")).containsExactly(2);
        assertThat(matching("labels.\"say \\\"hi\\\" \\\\o/\"==yes")).containsExactly(4);
        assertThat(matching("other==\"comma, and space\"")).containsExactly(5);
        assertThat(matching("other==\"\\x63omma, \\141nd \\u0073pace\"")).containsExactly(5);
    }

    @Test
    void whitespaceBeforeOperatorAndValueIsSkipped() {
        assertThat(matching("name == nginx")).containsExactly(1, 3);
        assertThat(matching("name==nginx, labels.env")).containsExactly(3);
    }

    @Test
    void unquote() {
        assertThat(Parser.unquote("\"a\\tb\"")).isEqualTo("a\tb");
        assertThat(Parser.unquote("\"\\u00e9\\U0001F600\"")).isEqualTo("é😀");
        assertThat(Parser.unquote("\"\\xc3\\xa9\"")).isEqualTo("é"); // raw bytes, read as UTF-8
        assertThat(Parser.unquote("/a\\/b/")).isEqualTo("a/b");
        assertThat(Parser.unquote("|a\\|b|")).isEqualTo("a|b");
        assertThat(Parser.unquote("\"plain\"")).isEqualTo("plain");
        assertThat(Parser.unquote("\"\\400\"")).isNull();
        assertThat(Parser.unquote("\"\\U00110000\"")).isNull();
        assertThat(Parser.unquote("\"\\/\"")).isNull();
        assertThat(Parser.unquote("\"a")).isNull();
        assertThat(Parser.unquote("'a'")).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '¦', quoteCharacter = '`', value = {
        // input ¦ byte position ¦ message
        "name==a,                ¦ 8 ¦ expected field or quoted",
        "labels.                 ¦ 7 ¦ expected field or quoted",
        "`,`                     ¦ 0 ¦ expected field or quoted",
        "labels.?x               ¦ 7 ¦ expected field or quoted",
        "image~=,id              ¦ 7 ¦ expected value or quoted",
        "name==                  ¦ 6 ¦ expected value or quoted",
        "labels.|foo|==x         ¦ 7 ¦ invalid quote encountered",
        "name==/x/               ¦ 6 ¦ invalid quote encountered",
        "`name==foo `            ¦ 9 ¦ unexpected input:  ",
        "name==\"x\"y            ¦ 9 ¦ unexpected input: y",
        "name=foo                ¦ 4 ¦ unsupported operator \"=\"",
        "name===foo              ¦ 4 ¦ unsupported operator \"===\"",
        "name!~foo               ¦ 4 ¦ unsupported operator \"!~\"",
        "name foo                ¦ 5 ¦ expected an operator",
        "`labels.tier ,x`        ¦ 12 ¦ expected an operator",
        "name==\"abc             ¦ 6 ¦ expected value or quoted",
        "name==\"a\\qb\"         ¦ 6 ¦ expected value or quoted",
        "name==\"\\x4\"          ¦ 6 ¦ expected value or quoted",
        "name==\"\\400\"         ¦ 6 ¦ unquoting failed: quote syntax error",
        "name~=(                 ¦ 6 ¦ invalid regular expression \"(\"",
        "name~=/\\d/             ¦ 6 ¦ expected value or quoted",
        "\"é\"==x,              ¦ 8 ¦ expected field or quoted",
        "é==x                    ¦ 0 ¦ expected field or quoted",
        "x==é,                   ¦ 6 ¦ expected field or quoted",
    })
    void errorsNameInputAndBytePosition(String input, int pos, String message) {
        assertThatThrownBy(() -> Filter.parse(input))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageStartingWith("filters: parse error at position " + pos + " in " + Parser.quote(input) + ": " + message);
        assertThatThrownBy(() -> Filter.parseAll("name==ok", input))
                .isInstanceOf(ContainerdException.class)
                .hasMessageContaining("position " + pos);
    }

    @Test
    void nulAndFieldDash() {
        assertThatThrownBy(() -> Filter.parse("a\0"))
                .hasMessage("filters: parse error at position 1 in \"a\\x00\": expected an operator (\"==\"|\"!=\"|\"~=\")");
        // field names follow containerd's scanner: digits, '-' and '_' anywhere
        Adaptor a = path -> path.equals(List.of("labels", "9-x_y")) ? java.util.Optional.of("v") : java.util.Optional.empty();
        assertThat(Filter.parse("labels.9-x_y==v").match(a)).isTrue();
    }

    @Test
    void valueRunsIncludePunctuationButStopAtCommaAndSpace() {
        Adaptor a = path -> java.util.Optional.of("a=b!c~d.e/f\"g");
        assertThat(Filter.parse("x==a=b!c~d.e/f\"g").match(a)).isTrue();
        assertThat(Filter.parse("x==a=b!c~d.e/f\"g,x").match(a)).isTrue();
    }
}
