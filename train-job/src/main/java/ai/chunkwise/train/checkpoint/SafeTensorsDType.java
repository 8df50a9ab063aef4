package ai.chunkwise.train.checkpoint;

import java.util.Arrays;
import java.util.Optional;

/** The safetensors element types this project reads, with their on-disk width in bytes. */
enum SafeTensorsDType {
    F64(8), F32(4), BF16(2), F16(2), I64(8), I32(4);

    final int bytes;

    SafeTensorsDType(int bytes) {
        this.bytes = bytes;
    }

    boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == BF16 || this == F16;
    }

    /** The header spelling ("F32", ...); empty for types we do not read (I8, U8, BOOL, F8_*, ...). */
    static Optional<SafeTensorsDType> parse(String name) {
        return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
    }
}
