package io.jcontainerd.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names a record component's TOML key when it is not the snake_case of the component's name, e.g.
 * {@code @TomlKey("SystemdCgroup") boolean systemdCgroup} for containerd's runc options.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface TomlKey {
    String value();
}
