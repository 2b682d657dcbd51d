# cloud_memory_bench: the cloud's resident bytes per enrolled device and its
# start-up time (registry, identity keys, E3 state restore) at 100,000 and
# 1,000,000 devices, each measured in a fresh process.
add_executable(cloud_memory_bench ${CMAKE_CURRENT_LIST_DIR}/cloud_memory_bench.cpp)
target_link_libraries(cloud_memory_bench PRIVATE armored_cloud armored_e3 armored_provision armored_store)
armored_warnings(cloud_memory_bench)
