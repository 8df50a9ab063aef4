package ai.chunkwise.pipeline.config;

import com.typesafe.config.ConfigException;

import java.util.List;

/** A configuration contains keys no job reads (usually a misspelling); the message names each one. */
public final class UnknownConfigKeyException extends ConfigException {

    private static final long serialVersionUID = 1L;

    private final transient List<String> unknownKeys;

    UnknownConfigKeyException(String message, List<String> unknownKeys) {
        super(message);
        this.unknownKeys = List.copyOf(unknownKeys);
    }

    /** The offending key paths, sorted. */
    public List<String> unknownKeys() {
        return unknownKeys;
    }
}
