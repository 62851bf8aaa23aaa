// The one translation unit that compiles Boost.Asio and Boost.Beast (see
// BOOST_ASIO_SEPARATE_COMPILATION in CMakeLists.txt): every other TU only sees
// declarations, which keeps 2-core builds fast.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
