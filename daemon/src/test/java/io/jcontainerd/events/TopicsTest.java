package io.jcontainerd.events;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {
    @ParameterizedTest
    @ValueSource(strings = {"/tasks/exit", "/images/create", "/namespaces/update", "/tasks/exec-added",
        "/a.b_c-d/E9", "/x"})
    void valid(String topic) {
        assertThatCode(() -> Topics.validate(topic)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '¦', quoteCharacter = '`', value = {
        "``            ¦ must not be empty",
        "tasks/exit    ¦ must start with '/'",
        "/             ¦ must have at least one component",
        "/tasks//exit  ¦ failed validation on component \"\": identifier must not be empty",
        "/tasks/       ¦ failed validation on component \"\": identifier must not be empty",
        "/tasks/a b    ¦ failed validation on component \"a b\": identifier \"a b\" must match",
        "/-tasks       ¦ failed validation on component \"-tasks\"",
        "/a--b         ¦ failed validation on component \"a--b\"",
        "/a.           ¦ failed validation on component \"a.\"",
    })
    void invalid(String topic, String message) {
        assertThatThrownBy(() -> Topics.validate(topic))
                .isInstanceOfSatisfying(ContainerdException.class, e -> org.assertj.core.api.Assertions.assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageStartingWith("envelope topic \"" + topic + "\": " + message);
    }

    @ParameterizedTest
    @ValueSource(ints = {76, 77})
    void componentLengthLimit(int length) {
        String topic = "/" + "a".repeat(length);
        if (length <= 76) {
            assertThatCode(() -> Topics.validate(topic)).doesNotThrowAnyException();
        } else {
            assertThatThrownBy(() -> Topics.validate(topic)).hasMessageContaining("greater than maximum length (76 characters)");
        }
    }
}
