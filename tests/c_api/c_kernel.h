#ifndef C_KERNEL_H_
#define C_KERNEL_H_
long c_kernel_read(int fd, void* buf, unsigned long count);
#endif
