#pragma once
#ifdef __cplusplus
extern "C" {
#endif
unsigned fixture_straight(unsigned x);
int fixture_branchy(int x);
int fixture_never(int x);
#ifdef __cplusplus
}
#endif
