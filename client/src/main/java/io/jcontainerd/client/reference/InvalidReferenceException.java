package io.jcontainerd.client.reference;

import io.grpc.Status;
import io.jcontainerd.client.ClientException;

/** A reference string that is not a valid image reference (InvalidArgument). */
public final class InvalidReferenceException extends ClientException {
    public InvalidReferenceException(String message) {
        super(Status.Code.INVALID_ARGUMENT, message);
    }
}
