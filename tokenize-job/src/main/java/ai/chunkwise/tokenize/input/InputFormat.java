package ai.chunkwise.tokenize.input;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How documents are read from the input files. */
public enum InputFormat {
    /** One document per file. */
    TEXT,
    /** One document per line. */
    LINES,
    /** One JSON object per line; the document is a string field. */
    JSONL,
    /** A string column of Parquet files. */
    PARQUET;

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static InputFormat parse(String name) {
        for (InputFormat f : values()) {
            if (f.configName().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown input format '" + name + "'; valid formats: "
                + Arrays.stream(values()).map(InputFormat::configName).collect(Collectors.joining(", ")));
    }

    /** Whether documents come from a named field/column ({@code text-field}). */
    public boolean hasTextField() {
        return this == JSONL || this == PARQUET;
    }
}
