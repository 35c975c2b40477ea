/*
 * A CPU stand-in for libcudart, for the FFM binding tests only: "device" memory is host memory from malloc.
 * It implements the functions the engine binds with the real signatures and error codes, and checks what the real
 * runtime would reject (unknown or freed pointers, copies outside an allocation, pitches below the width).
 * The fake_* globals let tests inject failures and count live allocations through FFM.
 */
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

enum { SUCCESS = 0, INVALID_VALUE = 1, MEMORY_ALLOCATION = 2, INVALID_PITCH = 12, NO_DEVICE = 100, INVALID_DEVICE = 101 };
enum { HOST_TO_HOST = 0, HOST_TO_DEVICE = 1, DEVICE_TO_HOST = 2, DEVICE_TO_DEVICE = 3, DEFAULT = 4 };

int fake_device_count = 1;
int fake_malloc_status = SUCCESS;
int fake_live_allocations = 0;
int fake_current_device = -1;

#define MAX_ALLOCATIONS 4096
static struct { char *ptr; size_t size; } allocations[MAX_ALLOCATIONS];

static int find_allocation(const void *ptr) {
    for (int i = 0; i < MAX_ALLOCATIONS; i++)
        if (allocations[i].ptr != NULL && allocations[i].ptr == (const char *) ptr) return i;
    return -1;
}

/* Whether [ptr, ptr + bytes) lies inside one live allocation. */
static int is_device_range(const void *ptr, size_t bytes) {
    const char *p = ptr;
    for (int i = 0; i < MAX_ALLOCATIONS; i++)
        if (allocations[i].ptr != NULL && p >= allocations[i].ptr && p + bytes <= allocations[i].ptr + allocations[i].size)
            return 1;
    return 0;
}

int cudaGetDeviceCount(int *count) {
    *count = fake_device_count;
    return fake_device_count == 0 ? NO_DEVICE : SUCCESS;
}

int cudaSetDevice(int device) {
    if (device < 0 || device >= fake_device_count) return INVALID_DEVICE;
    fake_current_device = device;
    return SUCCESS;
}

int cudaMalloc(void **ptr, size_t size) {
    if (fake_malloc_status != SUCCESS) return fake_malloc_status;
    for (int i = 0; i < MAX_ALLOCATIONS; i++)
        if (allocations[i].ptr == NULL) {
            char *p = malloc(size);
            if (p == NULL) return MEMORY_ALLOCATION;
            memset(p, 0xff, size); /* NaN everywhere: reading memory nobody wrote shows up in the results */
            allocations[i].ptr = p;
            allocations[i].size = size;
            fake_live_allocations++;
            *ptr = p;
            return SUCCESS;
        }
    return MEMORY_ALLOCATION;
}

int cudaFree(void *ptr) {
    if (ptr == NULL) return SUCCESS;
    int i = find_allocation(ptr);
    if (i < 0) return INVALID_VALUE; /* a double free or a pointer cudaMalloc never returned */
    free(allocations[i].ptr);
    allocations[i].ptr = NULL;
    fake_live_allocations--;
    return SUCCESS;
}

/* The device side of a copy of rows rows, width bytes each, pitch bytes apart. */
static int check_copy(const void *dst, size_t dpitch, const void *src, size_t spitch, size_t width, size_t rows, int kind) {
    size_t dspan = rows == 0 ? 0 : (rows - 1) * dpitch + width, sspan = rows == 0 ? 0 : (rows - 1) * spitch + width;
    int dst_device = kind == HOST_TO_DEVICE || kind == DEVICE_TO_DEVICE;
    int src_device = kind == DEVICE_TO_HOST || kind == DEVICE_TO_DEVICE;
    if (kind < HOST_TO_HOST || kind > DEFAULT) return INVALID_VALUE;
    if (dst_device && !is_device_range(dst, dspan)) return INVALID_VALUE;
    if (src_device && !is_device_range(src, sspan)) return INVALID_VALUE;
    return SUCCESS;
}

int cudaMemcpy(void *dst, const void *src, size_t count, int kind) {
    int status = check_copy(dst, count, src, count, count, 1, kind);
    if (status == SUCCESS) memcpy(dst, src, count);
    return status;
}

int cudaMemcpy2D(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width, size_t height, int kind) {
    if (dpitch < width || spitch < width) return INVALID_PITCH;
    int status = check_copy(dst, dpitch, src, spitch, width, height, kind);
    for (size_t r = 0; status == SUCCESS && r < height; r++)
        memcpy((char *) dst + r * dpitch, (const char *) src + r * spitch, width);
    return status;
}

int cudaDeviceSynchronize(void) {
    return SUCCESS;
}

int cudaRuntimeGetVersion(int *version) {
    *version = 12080;
    return SUCCESS;
}

int cudaDeviceGetAttribute(int *value, int attribute, int device) {
    if (device < 0 || device >= fake_device_count) return INVALID_DEVICE;
    *value = attribute == 75 ? 8 : attribute == 76 ? 9 : 0; /* compute capability major, minor */
    return SUCCESS;
}

/* Only the name, the first field of cudaDeviceProp in every CUDA version. */
int cudaGetDeviceProperties_v2(void *properties, int device) {
    if (device < 0 || device >= fake_device_count) return INVALID_DEVICE;
    memset(properties, 0, 256);
    strcpy(properties, "Fake CUDA device (CPU)");
    return SUCCESS;
}

const char *cudaGetErrorString(int error) {
    switch (error) {
        case SUCCESS: return "no error";
        case INVALID_VALUE: return "invalid argument";
        case MEMORY_ALLOCATION: return "out of memory";
        case INVALID_PITCH: return "invalid pitch argument";
        case NO_DEVICE: return "no CUDA-capable device is detected";
        case INVALID_DEVICE: return "invalid device ordinal";
        default: return "unrecognized error code";
    }
}
